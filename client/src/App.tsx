import { Navigate, Route, Routes, useLocation } from 'react-router';
import type { ReactNode } from 'react';
import { Layout } from './components/Layout';
import { useAuth } from './lib/auth';
import { AdminPage } from './pages/AdminPage';
import { AlbumPage } from './pages/AlbumPage';
import { AlbumsPage } from './pages/AlbumsPage';
import { ApiKeysPage } from './pages/ApiKeysPage';
import { AuthPage } from './pages/AuthPage';
import { BatchPage } from './pages/BatchPage';
import { BatchesPage } from './pages/BatchesPage';
import { FavoritesPage } from './pages/FavoritesPage';
import { GeneratePage } from './pages/GeneratePage';
import { HistoryPage } from './pages/HistoryPage';
import { JobPage } from './pages/JobPage';
import { JoinSessionPage } from './pages/JoinSessionPage';
import { LorasPage } from './pages/LorasPage';
import { ModelsPage } from './pages/ModelsPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { PresetsPage } from './pages/PresetsPage';
import { SessionRoomPage } from './pages/SessionRoomPage';
import { SessionsPage } from './pages/SessionsPage';
import { SharedAlbumPage } from './pages/SharedAlbumPage';
import { SingleSignOnPage } from './pages/SingleSignOnPage';
import { VideoPage } from './pages/VideoPage';
import { TrainingPage } from './pages/TrainingPage';
import { TrainingRunPage } from './pages/TrainingRunPage';

/** Pages that need a signed-in user send others to sign in, and back afterwards. */
function RequireViewer({ children }: { children: ReactNode }) {
  const { viewer } = useAuth();
  const location = useLocation();
  if (viewer === undefined) return <p className="loading" role="status">Loading…</p>;
  if (viewer === null) return <Navigate to={`/signin?next=${encodeURIComponent(location.pathname + location.search)}`} replace />;
  return <>{children}</>;
}

export function App() {
  const signedIn = (page: ReactNode) => <RequireViewer>{page}</RequireViewer>;
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route path="/signin" element={<AuthPage mode="signin" />} />
        <Route path="/signup" element={<AuthPage mode="signup" />} />
        <Route path="/signin/sso" element={<SingleSignOnPage />} />
        <Route path="/" element={signedIn(<GeneratePage />)} />
        <Route path="/video" element={signedIn(<VideoPage />)} />
        <Route path="/jobs/:id" element={signedIn(<JobPage />)} />
        <Route path="/batches" element={signedIn(<BatchesPage />)} />
        <Route path="/batches/:id" element={signedIn(<BatchPage />)} />
        <Route path="/history" element={signedIn(<HistoryPage />)} />
        <Route path="/favorites" element={signedIn(<FavoritesPage />)} />
        <Route path="/albums" element={signedIn(<AlbumsPage />)} />
        <Route path="/albums/:id" element={signedIn(<AlbumPage />)} />
        <Route path="/shared/:token" element={<SharedAlbumPage />} />
        <Route path="/sessions" element={signedIn(<SessionsPage />)} />
        <Route path="/sessions/:id" element={signedIn(<SessionRoomPage />)} />
        <Route path="/join/:token" element={signedIn(<JoinSessionPage />)} />
        <Route path="/presets" element={signedIn(<PresetsPage />)} />
        <Route path="/loras" element={signedIn(<LorasPage />)} />
        <Route path="/training" element={signedIn(<TrainingPage />)} />
        <Route path="/training/runs/:id" element={signedIn(<TrainingRunPage />)} />
        <Route path="/keys" element={signedIn(<ApiKeysPage />)} />
        <Route path="/admin" element={signedIn(<AdminPage />)} />
        <Route path="/admin/models" element={signedIn(<ModelsPage />)} />
        <Route path="*" element={<NotFoundPage />} />
      </Route>
    </Routes>
  );
}
