import { useMutation, useQuery } from '@apollo/client/react';
import { AdminStats } from '../components/AdminStats';
import { AuditLog } from '../components/AuditLog';
import { EmptyState, ErrorNotice } from '../components/Notice';
import type { Role, Tier } from '../gql/graphql';
import { useAuth } from '../lib/auth';
import { formatDate } from '../lib/format';
import { AdminUsersQuery, SetUserRoleMutation, SetUserTierMutation } from '../operations/admin';

const TIERS: Tier[] = ['FREE', 'PRO', 'ENTERPRISE'];
const ROLES: Role[] = ['VIEWER', 'EDITOR', 'ADMIN'];

/** ADMIN: service health (queue, workers, failures), users with their tier and role, editable in place, and the audit log. */
export function AdminPage() {
  const { viewer } = useAuth();
  const users = useQuery(AdminUsersQuery, { variables: { first: 100, offset: 0 }, skip: viewer?.role !== 'ADMIN' });
  const [setTier, tierState] = useMutation(SetUserTierMutation);
  const [setRole, roleState] = useMutation(SetUserRoleMutation);
  if (viewer?.role !== 'ADMIN') return <EmptyState title="Admins only">This page is for administrators of this Atelier.</EmptyState>;
  const list = users.data?.users ?? [];
  return (
    <div className="stack">
      <h1>Admin</h1>
      <AdminStats />
      <section aria-labelledby="users-title">
        <h2 id="users-title" className="h3">Users</h2>
        <ErrorNotice error={users.error ?? tierState.error ?? roleState.error} />
        <div className="table-wrap">
          <table>
            <thead><tr><th scope="col">User</th><th scope="col">Tier</th><th scope="col">Role</th><th scope="col">Joined</th></tr></thead>
            <tbody>
              {list.map((user) => (
                <tr key={user.id}>
                  <td>{user.displayName ?? '—'}<br /><span className="muted small">{user.email}</span></td>
                  <td>
                    <label className="sr-only" htmlFor={`tier-${user.id}`}>Tier of {user.email}</label>
                    <select id={`tier-${user.id}`} value={user.tier} onChange={(e) => void setTier({ variables: { userId: user.id, tier: e.target.value as Tier } }).catch(() => undefined)}>
                      {TIERS.map((t) => <option key={t}>{t}</option>)}
                    </select>
                  </td>
                  <td>
                    <label className="sr-only" htmlFor={`role-${user.id}`}>Role of {user.email}</label>
                    <select id={`role-${user.id}`} value={user.role} disabled={user.id === viewer.id}
                      onChange={(e) => void setRole({ variables: { userId: user.id, role: e.target.value as Role } }).catch(() => undefined)}>
                      {ROLES.map((r) => <option key={r}>{r}</option>)}
                    </select>
                  </td>
                  <td>{formatDate(user.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <AuditLog />
    </div>
  );
}
