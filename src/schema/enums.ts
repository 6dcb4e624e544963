import { registerEnumType } from 'type-graphql';
import { AlbumRole, AuditEventKind, JobStatus, PresetCategory, Role, SessionRole, SessionStatus, Tier } from '../entities';

registerEnumType(Tier, { name: 'Tier', description: 'Service tier; sets the limits.' });
registerEnumType(Role, { name: 'Role', description: 'VIEWER reads and watches; EDITOR also creates; ADMIN manages.' });
registerEnumType(JobStatus, { name: 'JobStatus', description: 'Lifecycle of a job.' });
registerEnumType(SessionRole, { name: 'SessionRole', description: 'OWNER manages, COLLABORATOR generates, WATCHER watches.' });
registerEnumType(SessionStatus, { name: 'SessionStatus', description: 'ACTIVE, or ARCHIVED after being idle.' });
registerEnumType(PresetCategory, { name: 'PresetCategory', description: 'IMAGE or VIDEO presets.' });
registerEnumType(AlbumRole, { name: 'AlbumRole', description: 'What a user an album is shared with may do.' });
registerEnumType(AuditEventKind, { name: 'AuditEventKind', description: 'What a security audit event records.' });
