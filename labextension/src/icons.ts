/** The sidebar's icon: a small line chart, drawn in JupyterLab's icon colours. */
import { LabIcon } from '@jupyterlab/ui-components';

const MLOPS_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M3 3h2v16h16v2H3z"/>
    <path d="M7 15.6l4.1-5.1 3.2 2.7 4.6-6.3 1.6 1.2-5.9 8.1-3.2-2.7-2.8 3.5z"/>
    <circle cx="11.1" cy="10.5" r="1.4"/>
    <circle cx="18.9" cy="6.9" r="1.4"/>
  </g>
</svg>`;

const LOOP_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path d="M12 4a8 8 0 0 1 7.4 5h-2.3A6 6 0 0 0 6.3 10.2L8.5 12H3V6.5l1.9 1.9A8 8 0 0 1 12 4z"/>
    <path d="M12 20a8 8 0 0 1-7.4-5h2.3a6 6 0 0 0 10.8-1.2L15.5 12H21v5.5l-1.9-1.9A8 8 0 0 1 12 20z"/>
  </g>
</svg>`;

/** The Loop tab's icon: two arrows chasing each other. */
export const loopIcon = new LabIcon({
  name: 'jupyter-mlops:loop',
  svgstr: LOOP_SVG
});

export const mlopsIcon = new LabIcon({
  name: 'jupyter-mlops:runs',
  svgstr: MLOPS_SVG
});
