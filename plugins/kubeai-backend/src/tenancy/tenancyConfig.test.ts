import { ConfigReader } from '@backstage/config';
import { DEFAULT_OWNER_KEY, parseOwner, readTenancyConfig } from './tenancyConfig';

describe('parseOwner', () => {
  it('reads a full ref, the label form and a bare group name', () => {
    expect(parseOwner('group:default/cv-team')).toBe('group:default/cv-team');
    expect(parseOwner('Group:Default/CV-Team')).toBe('group:default/cv-team');
    expect(parseOwner('default/cv-team')).toBe('group:default/cv-team');
    // label values cannot hold ':' or '/'
    expect(parseOwner('group-default-cv-team')).toBe('group:default/cv-team');
    expect(parseOwner('group-org-search-reco')).toBe('group:org/search-reco');
    expect(parseOwner('cv-team')).toBe('group:default/cv-team');
  });

  it('gives nothing for an empty or unusable value', () => {
    expect(parseOwner(undefined)).toBeUndefined();
    expect(parseOwner('  ')).toBeUndefined();
    expect(parseOwner('group:a/b/c')).toBeUndefined();
  });
});

describe('readTenancyConfig', () => {
  it('has defaults without kubeai.tenancy', () => {
    expect(readTenancyConfig(new ConfigReader({}))).toEqual({
      ownerKey: DEFAULT_OWNER_KEY,
      namespaces: [],
      platformAdmins: [],
    });
  });

  it('reads owners and platform admins as group refs', () => {
    const config = new ConfigReader({
      kubeai: {
        tenancy: {
          ownerKey: 'example.com/team',
          platformAdmins: ['ml-platform'],
          namespaces: [
            { cluster: 'local', namespace: 'prod', owner: 'group:default/risk-ml' },
          ],
        },
      },
    });
    expect(readTenancyConfig(config)).toEqual({
      ownerKey: 'example.com/team',
      namespaces: [
        { cluster: 'local', namespace: 'prod', owner: 'group:default/risk-ml' },
      ],
      platformAdmins: ['group:default/ml-platform'],
    });
  });

  it('names the config key of an owner that is not a group ref', () => {
    const config = new ConfigReader({
      kubeai: {
        tenancy: {
          namespaces: [{ cluster: 'local', namespace: 'prod', owner: 'a/b/c' }],
        },
      },
    });
    expect(() => readTenancyConfig(config)).toThrow(
      "kubeai.tenancy.namespaces[0].owner: not a group reference: 'a/b/c'",
    );
    expect(() =>
      readTenancyConfig(
        new ConfigReader({ kubeai: { tenancy: { platformAdmins: ['x:y/z/w'] } } }),
      ),
    ).toThrow("kubeai.tenancy.platformAdmins[0]: not a group reference: 'x:y/z/w'");
  });
});
