import { fireEvent, render, screen, within } from '@testing-library/react';
import App from './App';

jest.setTimeout(60_000);

describe('App', () => {
  beforeEach(() => {
    process.env = {
      NODE_ENV: 'test',
      APP_CONFIG: [
        {
          data: {
            app: { title: 'Test' },
            backend: { baseUrl: 'http://localhost:7007' },
            techdocs: {
              storageUrl: 'http://localhost:7007/api/techdocs/static/docs',
            },
          },
          context: 'test',
        },
      ] as any,
    };
    // No auth backend here: the guest provider asks to fall back to its frontend-only token.
    jest.spyOn(window, 'confirm').mockReturnValue(true);
  });

  afterEach(() => {
    jest.restoreAllMocks();
    localStorage.clear();
    window.history.pushState({}, '', '/');
  });

  /** Renders the app and enters as the guest from its sign-in page. */
  async function renderSignedIn() {
    render(App.createRoot());
    fireEvent.click(
      await screen.findByRole('button', { name: 'Enter' }, { timeout: 20_000 }),
    );
  }

  it('shows the KubeAI page in the sidebar next to the catalog', async () => {
    window.history.pushState({}, '', '/catalog');
    await renderSignedIn();

    const kubeai = await screen.findByRole(
      'link',
      { name: 'KubeAI' },
      { timeout: 20_000 },
    );
    expect(kubeai).toHaveAttribute('href', '/kubeai');
    const nav = kubeai.closest('nav')!;
    expect(nav).not.toBeNull();
    expect(within(nav).getByRole('link', { name: 'Catalog' })).toHaveAttribute(
      'href',
      '/catalog',
    );
  });

  it('serves the KubeAI page with its tabs at /kubeai', async () => {
    window.history.pushState({}, '', '/kubeai');
    await renderSignedIn();

    for (const tab of [
      'Models',
      'Datasets',
      'Inference services',
      'Runs',
      'Notebooks',
      'Lineage',
    ]) {
      expect(
        await screen.findByRole('tab', { name: tab }, { timeout: 20_000 }),
      ).toBeInTheDocument();
    }
  });
});
