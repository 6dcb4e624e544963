import { NavLink, Outlet, useLocation } from 'react-router';
import { useEffect, useRef } from 'react';
import { useAuth } from '../lib/auth';
import { personName } from '../lib/format';

const LINKS = [
  { to: '/', label: 'Generate', end: true },
  { to: '/video', label: 'Video' },
  { to: '/batches', label: 'Batch' },
  { to: '/history', label: 'History' },
  { to: '/favorites', label: 'Favourites' },
  { to: '/albums', label: 'Albums' },
  { to: '/sessions', label: 'Sessions' },
  { to: '/presets', label: 'Presets' },
  { to: '/loras', label: 'LoRAs' },
  { to: '/training', label: 'Training' },
  { to: '/keys', label: 'API keys' },
];

/** Page frame: skip link, navigation, the signed-in user, and the routed page. */
export function Layout() {
  const { viewer, signOut } = useAuth();
  const location = useLocation();
  const main = useRef<HTMLElement>(null);
  const firstPath = useRef(location.pathname);
  // Move focus to the page on navigation (not on first load, where the skip link comes first)
  // so keyboard and screen-reader users start at the new content.
  useEffect(() => {
    if (location.pathname === firstPath.current) return;
    firstPath.current = '';
    main.current?.focus({ preventScroll: true });
  }, [location.pathname]);
  return (
    <>
      <a className="skip-link" href="#main">Skip to content</a>
      <header className="topbar">
        <NavLink to="/" className="brand" aria-label="Atelier home">
          <img src="/favicon.svg" alt="" width={24} height={24} /> Atelier
        </NavLink>
        {viewer && (
          <nav aria-label="Main" className="mainnav">
            <ul>
              {LINKS.map((link) => (
                <li key={link.to}>
                  <NavLink to={link.to} end={link.end}>{link.label}</NavLink>
                </li>
              ))}
              {viewer.role === 'ADMIN' && (
                <>
                  <li><NavLink to="/admin" end>Admin</NavLink></li>
                  <li><NavLink to="/admin/models">Models</NavLink></li>
                </>
              )}
            </ul>
          </nav>
        )}
        <div className="account">
          {viewer ? (
            <>
              <span className="who" title={viewer.email}>
                {personName(viewer)} <span className={`badge tier-${viewer.tier.toLowerCase()}`}>{viewer.tier}</span>
              </span>
              <button type="button" className="button ghost small" onClick={signOut}>Sign out</button>
            </>
          ) : (
            viewer === null && (
              <>
                <NavLink to="/signin">Sign in</NavLink>
                <NavLink to="/signup" className="button small">Sign up</NavLink>
              </>
            )
          )}
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <Outlet />
      </main>
    </>
  );
}
