import { Center, Loader } from '@mantine/core';
import { createBrowserRouter, Navigate, Outlet, RouterProvider, useLocation } from 'react-router';

import { LiveProvider } from '../api/live';
import { useSession } from '../api/session';
import { SignInPage } from '../pages/sign-in/SignInPage';
import { Shell } from './Shell';

/** Signed-in pages: the shell, the live feed, and the page (each page is its own chunk, loaded on first visit). */
function SignedIn() {
  const { state } = useSession();
  const location = useLocation();
  if (state.status === 'loading') {
    return (
      <Center h="100vh">
        <Loader aria-label="Loading" />
      </Center>
    );
  }
  if (state.status === 'signed-out') {
    return <Navigate to="/sign-in" replace state={{ from: location.pathname + location.search }} />;
  }
  return (
    <LiveProvider>
      <Shell>
        <Outlet />
      </Shell>
    </LiveProvider>
  );
}

const page = (load: () => Promise<{ Component: React.ComponentType }>) => ({ lazy: load });

const router = createBrowserRouter([
  { path: '/sign-in', element: <SignInPage /> },
  {
    element: <SignedIn />,
    children: [
      { index: true, ...page(() => import('../pages/overview/OverviewPage')) },
      { path: 'machines', ...page(() => import('../pages/machines/MachinesPage')) },
      { path: 'machines/:id', ...page(() => import('../pages/machines/MachinePage')) },
      // One route for every thread: switching threads keeps the page (and what is being typed elsewhere).
      { path: 'chat/:machine?', ...page(() => import('../pages/chat/ChatPage')) },
      { path: 'tasks', ...page(() => import('../pages/tasks/TasksPage')) },
      { path: 'tasks/new', ...page(() => import('../pages/tasks/NewTaskPage')) },
      { path: 'tasks/:id', ...page(() => import('../pages/tasks/TaskPage')) },
      { path: 'llm', ...page(() => import('../pages/llm/LlmPage')) },
      { path: 'github', ...page(() => import('../pages/github/GithubPage')) },
      { path: '*', element: <Navigate to="/" replace /> },
    ],
  },
]);

export function App() {
  return <RouterProvider router={router} />;
}
