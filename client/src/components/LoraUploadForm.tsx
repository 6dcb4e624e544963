import { useMutation, useQuery } from '@apollo/client/react';
import { useId, useRef, useState, type FormEvent } from 'react';
import { useAuth } from '../lib/auth';
import { explainError } from '../lib/errors';
import { uploadFile, UploadError, type UploadReceipt } from '../lib/upload';
import { ModelsQuery } from '../operations/jobs';
import { RegisterLoraMutation } from '../operations/loras';
import { describedBy, FormField, placeError, type FieldLabels } from './FormField';
import { ProgressBar } from './ProgressBar';

const FIELDS = ['uploadId', 'name', 'triggerWords', 'defaultWeight', 'baseModelId'] as const;
/** The fields' words in a server message placed under them; the file's refusals are explained apart (explainFileRefusal). */
const LABELS: FieldLabels = { name: 'Name', triggerWords: 'Trigger words', defaultWeight: 'Default weight', baseModelId: 'Base model' };
type Phase = 'idle' | 'uploading' | 'registering';

/** "Watercolor_v2.safetensors" → "Watercolor v2": a starting name people usually keep. */
const nameFromFile = (fileName: string) => fileName.replace(/\.safetensors$/i, '').replace(/[_]+/g, ' ').trim().slice(0, 80);

/** The server's reason a file is no LoRA for the model, with what to do about it. */
function explainFileRefusal(reason: string, modelName: string): string {
  const invalid = /^Not a valid LoRA: (.*)$/.exec(reason);
  if (invalid) return `This is not a LoRA in safetensors format (${invalid[1]}). Choose the .safetensors file your trainer exported.`;
  if (/^Upload not found/.test(reason)) return 'The upload expired before it was registered. Press the button again to send the file anew.';
  return `This LoRA does not fit ${modelName}: ${reason}. Choose the base model it was trained for.`;
}

/**
 * Uploads a LoRA in two steps, as the API expects: the raw file to
 * `POST /uploads` (with a progress bar), then `registerLora` with the answered
 * uploadId, which checks the file against the base model. A refusal shows under
 * the field it concerns; the upload is kept, so fixing a name does not send the
 * file again.
 */
export function LoraUploadForm() {
  const { token } = useAuth();
  const models = useQuery(ModelsQuery);
  const [register] = useMutation(RegisterLoraMutation, { refetchQueries: ['LoraLibrary'] });
  const fileInput = useRef<HTMLInputElement>(null);
  const formId = useId();
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState('');
  const [triggerWords, setTriggerWords] = useState('');
  const [defaultWeight, setDefaultWeight] = useState('1');
  const [modelChoice, setModelChoice] = useState('');
  const [phase, setPhase] = useState<Phase>('idle');
  const [progress, setProgress] = useState(0);
  const [problem, setProblem] = useState<{ message: string; field?: string } | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const uploaded = useRef<{ file: File; receipt: UploadReceipt } | null>(null);

  const enabled = (models.data?.models ?? []).filter((m) => m.enabled);
  const baseModelId = modelChoice || enabled.find((m) => m.isDefault)?.id || enabled[0]?.id || '';
  const { fieldErrors, formError } = placeError(problem, FIELDS, { labels: LABELS });
  const wrongKind = file !== null && !/\.safetensors$/i.test(file.name);
  const modelName = enabled.find((m) => m.id === baseModelId)?.name ?? 'the base model';
  const fileError = wrongKind ? 'Choose a .safetensors file.' : fieldErrors.uploadId && explainFileRefusal(fieldErrors.uploadId, modelName);

  const chooseFile = (next: File | null) => {
    setFile(next);
    setProblem(null);
    setDone(null);
    if (next && !name.trim()) setName(nameFromFile(next.name));
  };

  const reset = () => {
    setFile(null);
    setName('');
    setTriggerWords('');
    setDefaultWeight('1');
    uploaded.current = null;
    if (fileInput.current) fileInput.current.value = '';
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!file || !token) return;
    setProblem(null);
    setDone(null);
    try {
      let receipt = uploaded.current?.file === file ? uploaded.current.receipt : null;
      if (!receipt) {
        setPhase('uploading');
        setProgress(0);
        receipt = await uploadFile(file, token, setProgress);
        uploaded.current = { file, receipt };
      }
      setPhase('registering');
      const words = triggerWords.split(',').map((w) => w.trim()).filter(Boolean);
      const result = await register({
        variables: { input: { uploadId: receipt.uploadId, name: name.trim(), baseModelId, triggerWords: words, defaultWeight: Number(defaultWeight) } },
      });
      if (result.data) {
        const { name: registeredName, version } = result.data.registerLora;
        setDone(`“${registeredName}” version ${version} is registered and ready to use in Generate.`);
        reset();
      }
    } catch (error) {
      const explained = error instanceof UploadError ? { message: error.message } : explainError(error);
      // A file the server refused cannot be registered by retrying: make the next try send a new one.
      if (explained?.field === 'uploadId') uploaded.current = null;
      setProblem(explained);
    } finally {
      setPhase('idle');
    }
  };

  const busy = phase !== 'idle';
  return (
    <form className="card" onSubmit={submit} aria-labelledby={`${formId}-title`} noValidate>
      <h2 id={`${formId}-title`} className="h3">Upload a LoRA</h2>
      <FormField id="lora-file" label="LoRA file (.safetensors)" hint="Trained for the base model below; its layers and shapes are checked on upload." error={fileError}>
        <input id="lora-file" ref={fileInput} type="file" accept=".safetensors" required disabled={busy}
          aria-invalid={Boolean(fileError)} aria-describedby={describedBy('lora-file', 'hint', fileError)}
          onChange={(e) => chooseFile(e.target.files?.[0] ?? null)} />
      </FormField>
      <div className="grid-fields">
        <FormField id="lora-name" label="Name" hint="The same name again becomes the next version." error={fieldErrors.name}>
          <input id="lora-name" required maxLength={80} value={name} disabled={busy} onChange={(e) => setName(e.target.value)}
            aria-invalid={Boolean(fieldErrors.name)} aria-describedby={describedBy('lora-name', 'hint', fieldErrors.name)} />
        </FormField>
        <FormField id="lora-model" label="Base model" error={fieldErrors.baseModelId}>
          <select id="lora-model" value={baseModelId} disabled={busy || enabled.length === 0} onChange={(e) => setModelChoice(e.target.value)}
            aria-invalid={Boolean(fieldErrors.baseModelId)} aria-describedby={describedBy('lora-model', undefined, fieldErrors.baseModelId)}>
            {enabled.length === 0 && <option value="">No models installed</option>}
            {enabled.map((m) => <option key={m.id} value={m.id}>{m.name}{m.isDefault ? ' (default)' : ''}</option>)}
          </select>
        </FormField>
        <FormField id="lora-triggers" label="Trigger words (optional)" hint="Comma-separated, at most 20." error={fieldErrors.triggerWords}>
          <input id="lora-triggers" value={triggerWords} disabled={busy} placeholder="wc style, soft wash" onChange={(e) => setTriggerWords(e.target.value)}
            aria-invalid={Boolean(fieldErrors.triggerWords)} aria-describedby={describedBy('lora-triggers', 'hint', fieldErrors.triggerWords)} />
        </FormField>
        <FormField id="lora-weight" label="Default weight" hint="-2 to 2; used when a job gives none." error={fieldErrors.defaultWeight}>
          <input id="lora-weight" type="number" inputMode="decimal" min={-2} max={2} step={0.05} value={defaultWeight} disabled={busy}
            onChange={(e) => setDefaultWeight(e.target.value)}
            aria-invalid={Boolean(fieldErrors.defaultWeight)} aria-describedby={describedBy('lora-weight', 'hint', fieldErrors.defaultWeight)} />
        </FormField>
      </div>
      {busy && (
        <div className="upload-progress" role="status">
          <ProgressBar value={phase === 'uploading' ? progress : 1} label="Upload progress" />
          <p className="small muted">{phase === 'uploading' ? `Uploading… ${Math.round(progress * 100)} %` : 'Checking the file against the base model…'}</p>
        </div>
      )}
      {done && <p className="notice ok" role="status">{done}</p>}
      {formError && <div className="notice error" role="alert"><strong>Could not register: </strong>{formError}</div>}
      <button type="submit" className="button primary" disabled={busy || !file || wrongKind || !name.trim() || !baseModelId}>
        {busy ? 'Uploading…' : 'Upload and register'}
      </button>
    </form>
  );
}
