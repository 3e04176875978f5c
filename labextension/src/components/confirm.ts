/**
 * The confirmation in front of every release action: says what will happen and asks why.
 *
 * The reason is required (it is recorded in the model's release history); a canary promotion
 * also asks for its traffic weight. Built from DOM nodes with textContent only.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';

export interface IConfirmOptions {
  title: string;
  /** What the action does, in one or two sentences. */
  message: string;
  /** The accept button's label, e.g. "Promote". */
  action: string;
  /** Ask for a traffic weight (percent), with this default. */
  weight?: number;
  /** Ask for a model name (registration), with this placeholder. */
  name?: string;
  /** Whether an empty reason is accepted. */
  reasonOptional?: boolean;
  /** Show a "force" checkbox (override failed gates), unchecked. */
  allowForce?: boolean;
}

export interface IConfirmation {
  reason: string;
  weight?: number;
  name?: string;
  force?: boolean;
}

class ConfirmBody extends Widget implements Dialog.IBodyWidget<IConfirmation> {
  constructor(_options: IConfirmOptions) {
    super();
    this.addClass('jp-mlops-confirm');
    const message = document.createElement('p');
    message.textContent = _options.message;
    this.node.appendChild(message);
    if (_options.name !== undefined) {
      this._name = this._field('Model name', 'text', _options.name);
      this._name.placeholder = _options.name || 'from mlops.yaml';
      this._name.value = '';
    }
    if (_options.weight !== undefined) {
      this._weight = this._field('Canary traffic (%)', 'number', '');
      this._weight.min = '0';
      this._weight.max = '100';
      this._weight.value = String(_options.weight);
    }
    this._reason = this._field(
      _options.reasonOptional ? 'Reason (optional)' : 'Reason (recorded)',
      'text',
      ''
    );
    this._reason.classList.add('jp-mlops-confirm-reason');
    if (_options.allowForce) {
      const label = document.createElement('label');
      label.className = 'jp-mlops-confirm-force';
      this._force = document.createElement('input');
      this._force.type = 'checkbox';
      label.appendChild(this._force);
      label.appendChild(
        document.createTextNode(' Override failed or missing gates (force)')
      );
      this.node.appendChild(label);
    }
  }

  getValue(): IConfirmation {
    const value: IConfirmation = { reason: this._reason.value.trim() };
    if (this._weight) {
      value.weight = Number(this._weight.value);
    }
    if (this._name) {
      value.name = this._name.value.trim();
    }
    if (this._force) {
      value.force = this._force.checked;
    }
    return value;
  }

  /** Focus the reason field when the dialog opens. */
  protected onAfterAttach(): void {
    requestAnimationFrame(() => this._reason.focus());
  }

  private _field(label: string, type: string, value: string): HTMLInputElement {
    const wrapper = document.createElement('label');
    wrapper.className = 'jp-mlops-confirm-field';
    const caption = document.createElement('span');
    caption.textContent = label;
    const input = document.createElement('input');
    input.type = type;
    input.value = value;
    input.className = 'jp-mod-styled';
    wrapper.appendChild(caption);
    wrapper.appendChild(input);
    this.node.appendChild(wrapper);
    return input;
  }

  private _reason: HTMLInputElement;
  private _weight: HTMLInputElement | null = null;
  private _name: HTMLInputElement | null = null;
  private _force: HTMLInputElement | null = null;
}

/** Ask for confirmation; null when cancelled. A required reason is asked again until given. */
export async function confirmAction(
  options: IConfirmOptions
): Promise<IConfirmation | null> {
  let message = options.message;
  for (;;) {
    const result = await showDialog<IConfirmation>({
      title: options.title,
      body: new ConfirmBody({ ...options, message }),
      buttons: [
        Dialog.cancelButton(),
        Dialog.okButton({ label: options.action })
      ],
      focusNodeSelector: '.jp-mlops-confirm-reason input'
    });
    if (!result.button.accept || !result.value) {
      return null;
    }
    if (result.value.reason || options.reasonOptional) {
      return result.value;
    }
    message = `${options.message} A reason is required: it is recorded in the release history.`;
  }
}
