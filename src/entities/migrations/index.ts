/** Every migration, in order. `npm run migration:generate <Name>` adds to this list. */
import { AlbumRemovals1796188266721 } from './1796188266721-AlbumRemovals';
import { TrainingSamples1796179374852 } from './1796179374852-TrainingSamples';
import { LoraVisibility1796177461346 } from './1796177461346-LoraVisibility';
import { RepeatedAuditEvents1796170425374 } from './1796170425374-RepeatedAuditEvents';
import { TokenGeneration1796141000000 } from './1796141000000-TokenGeneration';
import { AlbumCoverIndex1796140000000 } from './1796140000000-AlbumCoverIndex';
import { PendingLineIndex1796003945378 } from './1796003945378-PendingLineIndex';
import { VideoJobs1796000000000 } from './1796000000000-VideoJobs';
import { Batches1795974423134 } from './1795974423134-Batches';
import { DataLifecycle1795974172386 } from './1795974172386-DataLifecycle';
import { DatasetsAndTraining1795973935688 } from './1795973935688-DatasetsAndTraining';
import { ModelBackends1795973862617 } from './1795973862617-ModelBackends';
import { AddJobSampler1795970711988 } from './1795970711988-AddJobSampler';
import { PendingUploadQuota1795966964444 } from './1795966964444-PendingUploadQuota';
import { AuditEvents1795965890914 } from './1795965890914-AuditEvents';
import { SingleSignOnAccounts1795965598562 } from './1795965598562-SingleSignOnAccounts';
import { ApiKeyWebhooks1795344111507 } from './1795344111507-ApiKeyWebhooks';
import { Initial1795341110071 } from './1795341110071-Initial';
import { OwedEnds1796150000000 } from './1796150000000-OwedEnds';
import { ModelNamesIgnoreCase1796159500000 } from './1796159500000-ModelNamesIgnoreCase';
export const MIGRATIONS: Function[] = [
  Initial1795341110071, ApiKeyWebhooks1795344111507, SingleSignOnAccounts1795965598562, AuditEvents1795965890914, PendingUploadQuota1795966964444,
  AddJobSampler1795970711988, ModelBackends1795973862617, DatasetsAndTraining1795973935688, DataLifecycle1795974172386, Batches1795974423134,
  VideoJobs1796000000000, PendingLineIndex1796003945378, AlbumCoverIndex1796140000000, TokenGeneration1796141000000, OwedEnds1796150000000,
  ModelNamesIgnoreCase1796159500000, RepeatedAuditEvents1796170425374, LoraVisibility1796177461346, TrainingSamples1796179374852,
  AlbumRemovals1796188266721,
];
