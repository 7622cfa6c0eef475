import { screen, within } from '@testing-library/react';
import { renderInTestApp } from '@backstage/frontend-test-utils';
import { KubeaiSignInPage } from './KubeaiSignInPage';

const users = [
  {
    entityRef: 'user:default/zhang.min',
    title: 'Zhang Min',
    description: 'Computer Vision (cv-team)',
  },
  { entityRef: 'user:default/wang.fang' },
];

/** What the page needs besides auth (the header's title, discovery). */
const base = {
  app: { title: 'KubeAI Portal' },
  backend: { baseUrl: 'http://localhost:7007' },
};

/** The cards of the sign-in page by their titles (each card is a list item). */
function cards() {
  return screen
    .getAllByRole('listitem')
    .map(card => within(card).getAllByText(/./)[0].textContent);
}

describe('KubeaiSignInPage', () => {
  afterEach(() => localStorage.clear());

  it('offers guest and each demo user of auth.providers.demo, with their team', async () => {
    renderInTestApp(<KubeaiSignInPage onSignInSuccess={jest.fn()} />, {
      config: { ...base, auth: { providers: { guest: {}, demo: { users } } } },
    });
    expect(await screen.findByText('Zhang Min')).toBeInTheDocument();
    expect(cards()).toEqual(['Guest', 'Zhang Min', 'user:default/wang.fang']);
    const zhang = screen.getByText('Zhang Min').closest('li')!;
    expect(zhang).toHaveTextContent(
      'Computer Vision (cv-team). Demo user (user:default/zhang.min), no password.',
    );
    expect(
      within(zhang).getByRole('button', { name: 'Sign In' }),
    ).toBeEnabled();
    expect(screen.getByRole('button', { name: 'Enter' })).toBeEnabled();
  });

  it('offers guest only when the demo provider is turned off or not configured', async () => {
    // enabled comes as a string from ${KUBEAI_DEMO_SIGN_IN:-false} in app-config.production.yaml
    const { unmount } = renderInTestApp(
      <KubeaiSignInPage onSignInSuccess={jest.fn()} />,
      {
        config: {
          ...base,
          auth: { providers: { demo: { enabled: 'false', users } } },
        },
      },
    );
    expect(
      await screen.findByRole('button', { name: 'Enter' }),
    ).toBeInTheDocument();
    expect(cards()).toEqual(['Guest']);
    unmount();

    renderInTestApp(<KubeaiSignInPage onSignInSuccess={jest.fn()} />, {
      config: base,
    });
    expect(
      await screen.findByRole('button', { name: 'Enter' }),
    ).toBeInTheDocument();
    expect(cards()).toEqual(['Guest']);
  });
});
