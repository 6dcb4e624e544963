import { Album } from './album.entity';
import { Dataset } from './dataset.entity';
import { DatasetImage } from './dataset-image.entity';
import { TrainingRun } from './training-run.entity';
import { TrainingSampleImage } from './training-sample.entity';
import { AlbumImage } from './album-image.entity';
import { AlbumLink } from './album-link.entity';
import { AlbumRemoval } from './album-removal.entity';
import { AlbumShare } from './album-share.entity';
import { ApiKey } from './api-key.entity';
import { AuditEvent } from './audit-event.entity';
import { Batch } from './batch.entity';
import { Favorite } from './favorite.entity';
import { Image } from './image.entity';
import { Job } from './job.entity';
import { Lora } from './lora.entity';
import { AiModel } from './model.entity';
import { Preset } from './preset.entity';
import { CollabSession } from './session.entity';
import { SessionInvite } from './session-invite.entity';
import { SessionMember } from './session-member.entity';
import { TierPolicy } from './tier-policy.entity';
import { UsageRecord } from './usage-record.entity';
import { User } from './user.entity';

export * from './enums';
export {
  Album, AlbumImage, AlbumLink, AlbumRemoval, AlbumShare, ApiKey, AuditEvent, Batch, Favorite, Image, Job, Lora, AiModel, Preset,
  CollabSession, SessionInvite, SessionMember, TierPolicy, UsageRecord, User, Dataset, DatasetImage, TrainingRun, TrainingSampleImage,
};
export { JobError, remainingDenoisingSteps, workSteps, type JobVideoFile } from './job.entity';
export type { BatchAxes } from './batch.entity';
export type { LoraTrainingMetrics } from './lora.entity';
export { JobLora } from './generation-columns';
export { ModelFile } from './model.entity';

/** Every entity, for the DataSource. */
export const ENTITIES = [
  User, ApiKey, TierPolicy, AiModel, Job, Image, Album, AlbumImage, AlbumShare, AlbumLink, AlbumRemoval,
  Preset, Lora, CollabSession, SessionMember, SessionInvite, UsageRecord, Favorite, AuditEvent, Batch,
  Dataset, DatasetImage, TrainingRun, TrainingSampleImage,
];
