import { useMutation } from '@apollo/client/react';
import { useState, type ChangeEvent, type FormEvent } from 'react';
import type { InferenceBackend, ModelAdminFieldsFragment, ModelInput, Tier } from '../gql/graphql';
import { BACKEND_LABELS } from '../lib/backends';
import { explainError, type ExplainedError } from '../lib/errors';
import { RegisterModelMutation, UpdateModelMutation } from '../operations/models';
import { describedBy, FormField, placeError, type FieldLabels } from './FormField';

const BACKENDS: InferenceBackend[] = ['COMFYUI', 'OPENAI_IMAGES', 'ONNX'];
const TIERS: Tier[] = ['FREE', 'PRO', 'ENTERPRISE'];
const FIELDS = ['name', 'backend', 'description', 'minTier', 'endpoints', 'workflow', 'remoteModel', 'credential', 'path'] as const;
/** The fields' words in a server message placed under them (`path must be …` → `Folder must be …`). */
const LABELS: FieldLabels = {
  name: 'Model name', backend: 'Backend', description: 'Description', minTier: 'Lowest tier', endpoints: 'Endpoints',
  workflow: 'Workflow', remoteModel: 'Remote model', credential: 'Credential', path: 'Folder',
};

interface Values {
  name: string;
  backend: InferenceBackend;
  description: string;
  minTier: Tier;
  /** One base URL per line. */
  endpoints: string;
  /** The workflow as JSON text (pasted or read from a file). */
  workflow: string;
  remoteModel: string;
  /** Empty keeps the stored credential. */
  credential: string;
  removeCredential: boolean;
  path: string;
}

function valuesOf(model: ModelAdminFieldsFragment | null): Values {
  return {
    name: model?.name ?? '',
    backend: model?.backend ?? 'COMFYUI',
    description: model?.description ?? '',
    minTier: model?.minTier ?? 'FREE',
    endpoints: (model?.endpoints ?? []).map((e) => e.url).join('\n'),
    workflow: model?.workflow ? JSON.stringify(model.workflow, null, 2) : '',
    remoteModel: model?.remoteModel ?? '',
    credential: '',
    removeCredential: false,
    path: model?.path ?? '',
  };
}

/** Only the fields the chosen backend uses travel, so hidden leftovers are never refused. */
function inputOf(v: Values): ModelInput {
  const remote = v.backend !== 'ONNX';
  return {
    name: v.name.trim(),
    backend: v.backend,
    description: v.description.trim() || null,
    minTier: v.minTier,
    endpoints: remote ? v.endpoints.split('\n').map((line) => line.trim()).filter(Boolean) : null,
    workflow: v.backend === 'COMFYUI' && v.workflow.trim() ? (JSON.parse(v.workflow) as Record<string, unknown>) : null,
    remoteModel: v.backend === 'OPENAI_IMAGES' ? v.remoteModel.trim() || null : null,
    credential: !remote ? null : v.removeCredential ? '' : v.credential || null,
    path: v.backend === 'ONNX' ? v.path.trim() || null : null,
  };
}

/** JSON that does not parse is explained here, before the server sees it. */
function workflowProblem(v: Values): ExplainedError | null {
  if (v.backend !== 'COMFYUI' || !v.workflow.trim()) return null;
  try {
    JSON.parse(v.workflow);
    return null;
  } catch (error) {
    return { message: `Not valid JSON: ${(error as Error).message}`, field: 'workflow' };
  }
}

interface Props {
  /** The model being edited, or null to register one. */
  editing: ModelAdminFieldsFragment | null;
  onSaved(name: string, created: boolean): void;
  onCancel(): void;
}

/** Registers or edits a model; refusals show under the field the server names. */
export function ModelForm({ editing, onSaved, onCancel }: Props) {
  const [v, setV] = useState<Values>(() => valuesOf(editing));
  const [problem, setProblem] = useState<ExplainedError | null>(null);
  const [register, registerState] = useMutation(RegisterModelMutation, { refetchQueries: ['AdminModels', 'Models'] });
  const [update, updateState] = useMutation(UpdateModelMutation, { refetchQueries: ['Models'] });
  const busy = registerState.loading || updateState.loading;
  const { fieldErrors, formError } = placeError(problem, FIELDS, { labels: LABELS });
  const set = <K extends keyof Values>(key: K, value: Values[K]) => setV((prev) => ({ ...prev, [key]: value }));
  const id = (field: string) => `model-${field}`;
  const wired = (field: (typeof FIELDS)[number], hint?: string) => ({
    id: id(field), 'aria-invalid': Boolean(fieldErrors[field]), 'aria-describedby': describedBy(id(field), hint, fieldErrors[field]),
  });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const local = workflowProblem(v);
    setProblem(local);
    if (local) return;
    try {
      const input = inputOf(v);
      if (editing) await update({ variables: { id: editing.id, input } });
      else await register({ variables: { input } });
      onSaved(input.name, !editing);
    } catch (error) {
      setProblem(explainError(error));
    }
  };

  const readWorkflowFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    if (file) set('workflow', await file.text());
  };

  return (
    <form className="card" onSubmit={submit} aria-labelledby="model-form-title" noValidate>
      <h2 id="model-form-title" className="h3">{editing ? `Edit “${editing.name}”` : 'Register a model'}</h2>
      <div className="grid-fields">
        <FormField id={id('name')} label="Model name" error={fieldErrors.name}>
          <input {...wired('name')} required maxLength={80} value={v.name} onChange={(e) => set('name', e.target.value)} />
        </FormField>
        <FormField id={id('backend')} label="Backend" error={fieldErrors.backend}>
          <select {...wired('backend')} value={v.backend} onChange={(e) => set('backend', e.target.value as InferenceBackend)}>
            {BACKENDS.map((b) => <option key={b} value={b}>{BACKEND_LABELS[b]}</option>)}
          </select>
        </FormField>
        <FormField id={id('minTier')} label="Lowest tier" error={fieldErrors.minTier}>
          <select {...wired('minTier')} value={v.minTier} onChange={(e) => set('minTier', e.target.value as Tier)}>
            {TIERS.map((t) => <option key={t}>{t}</option>)}
          </select>
        </FormField>
      </div>
      <FormField id={id('description')} label="Description (optional)" error={fieldErrors.description}>
        <input {...wired('description')} maxLength={500} value={v.description} onChange={(e) => set('description', e.target.value)} />
      </FormField>
      {v.backend !== 'ONNX' && (
        <FormField id={id('endpoints')} label="Endpoints" hint="One base URL per line (http or https), e.g. http://gpu-1:8188." error={fieldErrors.endpoints}>
          <textarea {...wired('endpoints', 'hint')} rows={2} value={v.endpoints} onChange={(e) => set('endpoints', e.target.value)} />
        </FormField>
      )}
      {v.backend === 'COMFYUI' && (
        <FormField id={id('workflow')} label="Workflow (API format JSON)"
          hint='Export with "Save (API Format)"; put {{prompt}} where the prompt goes and keep an image output node such as SaveImage.'
          error={fieldErrors.workflow}>
          <textarea {...wired('workflow', 'hint')} rows={8} className="mono" spellCheck={false} value={v.workflow} onChange={(e) => set('workflow', e.target.value)} />
          <label className="small" htmlFor={id('workflow-file')}>Or upload a workflow file</label>
          <input id={id('workflow-file')} type="file" accept=".json,application/json" onChange={(e) => void readWorkflowFile(e)} />
        </FormField>
      )}
      {v.backend === 'OPENAI_IMAGES' && (
        <FormField id={id('remoteModel')} label="Remote model" hint="The `model` the server expects, e.g. gpt-image-1." error={fieldErrors.remoteModel}>
          <input {...wired('remoteModel', 'hint')} maxLength={200} value={v.remoteModel} onChange={(e) => set('remoteModel', e.target.value)} />
        </FormField>
      )}
      {v.backend !== 'ONNX' && (
        <FormField id={id('credential')} label="Credential (optional)" error={fieldErrors.credential}
          hint={editing?.hasCredential ? 'A credential is stored; leave empty to keep it. It is never shown again.' : 'Sent as a Bearer token; stored encrypted and never shown again.'}>
          <input {...wired('credential', 'hint')} type="password" autoComplete="off" value={v.credential} disabled={v.removeCredential}
            onChange={(e) => set('credential', e.target.value)} />
          {editing?.hasCredential && (
            <label className="inline small">
              <input type="checkbox" checked={v.removeCredential} onChange={(e) => set('removeCredential', e.target.checked)} /> Remove the stored credential
            </label>
          )}
        </FormField>
      )}
      {v.backend === 'ONNX' && (
        <FormField id={id('path')} label="Folder (optional)" hint="A folder of the models folder or an artifact store prefix; empty: the folder named like the model." error={fieldErrors.path}>
          <input {...wired('path', 'hint')} value={v.path} onChange={(e) => set('path', e.target.value)} />
        </FormField>
      )}
      {formError && <div className="notice error" role="alert"><strong>Could not save: </strong>{formError}</div>}
      <div className="actions">
        <button type="submit" className="button primary" disabled={busy || !v.name.trim()}>{editing ? 'Save changes' : 'Register model'}</button>
        {editing && <button type="button" className="button ghost" onClick={onCancel}>Cancel</button>}
      </div>
    </form>
  );
}
