/**
 * The release actions behind a confirmation that records the reason: validate, promote (staging,
 * canary with a weight, champion) and roll back. Shared by the version tab and the commands.
 */
import { PromotionTarget, ReleaseModel } from '../models/release';
import { IVersionDetail } from '../tokens';
import { confirmAction } from '../components/confirm';

export async function validate(
  model: ReleaseModel,
  detail: IVersionDetail
): Promise<void> {
  const answer = await confirmAction({
    title: `Validate ${detail.name} v${detail.version}`,
    message:
      'Run every release gate of mlops.yaml on this version (on the evaluation data) ' +
      'and record the verdict and the model card.',
    action: 'Validate',
    reasonOptional: true
  });
  if (answer) {
    await model.validate(detail.version, answer.reason).catch(() => undefined);
  }
}

export async function promote(
  model: ReleaseModel,
  detail: IVersionDetail,
  to: PromotionTarget
): Promise<void> {
  const versions = model.versions;
  const weight =
    to === 'canary'
      ? versions && versions.aliases.canary === detail.version
        ? versions.canary_weight
        : 10
      : undefined;
  const answer = await confirmAction({
    title: `Promote ${detail.name} v${detail.version} to ${to}`,
    message:
      to === 'champion'
        ? 'This version will serve all traffic; the current champion becomes previous.'
        : to === 'canary'
          ? 'This version will serve a share of the traffic beside the champion.'
          : 'This version becomes the staging version.',
    action: 'Promote',
    weight,
    allowForce: detail.gates !== 'passed'
  });
  if (!answer) {
    return;
  }
  await model
    .promote({
      version: detail.version,
      to,
      reason: answer.reason,
      weight: answer.weight,
      force: answer.force
    })
    .catch(() => undefined);
}

export async function rollback(model: ReleaseModel): Promise<void> {
  const aliases = model.versions?.aliases ?? {};
  const what =
    'canary' in aliases
      ? `The canary v${aliases.canary} is taken out of traffic.`
      : 'previous' in aliases
        ? `The previous champion v${aliases.previous} serves again.`
        : 'There is no canary and no previous champion: nothing to roll back.';
  const answer = await confirmAction({
    title: `Roll back ${model.selectedModel}`,
    message: what,
    action: 'Roll back'
  });
  if (answer) {
    await model.rollback(answer.reason).catch(() => undefined);
  }
}
