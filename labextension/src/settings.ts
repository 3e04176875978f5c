/** The user settings (schema/plugin.json) and how they reach the models and views. */
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { ISidebarModels, MlopsSidebar } from './components/Sidebar';
import { DEFAULT_SETTINGS, IMlopsSettings } from './tokens';

let current: IMlopsSettings = { ...DEFAULT_SETTINGS };

export function currentSettings(): IMlopsSettings {
  return current;
}

/** Parse the composite settings, keeping the defaults for anything malformed. */
export function parseSettings(raw: ReadonlyPartialJSONObject): IMlopsSettings {
  const interval = Number(raw.pollInterval);
  const columns = Array.isArray(raw.runColumns)
    ? raw.runColumns.filter((c): c is string => typeof c === 'string')
    : [];
  return {
    pollInterval:
      Number.isFinite(interval) && interval >= 2
        ? interval
        : DEFAULT_SETTINGS.pollInterval,
    defaultExperiment:
      typeof raw.defaultExperiment === 'string' ? raw.defaultExperiment : '',
    runColumns: columns
  };
}

export function applySettings(
  raw: ReadonlyPartialJSONObject,
  models: ISidebarModels,
  sidebar: MlopsSidebar
): void {
  const previous = current;
  current = parseSettings(raw);
  models.runs.pollInterval = current.pollInterval * 1000;
  models.release.pollInterval = current.pollInterval * 1000;
  models.pipeline.pollInterval = current.pollInterval * 1000;
  models.loop.idleInterval = current.pollInterval * 1000;
  if (current.defaultExperiment !== previous.defaultExperiment) {
    void models.runs.setQuery({
      experiment: current.defaultExperiment || null
    });
  }
  sidebar.updateViews();
}
