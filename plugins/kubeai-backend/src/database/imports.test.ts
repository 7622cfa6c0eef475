import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/*
 * Imports run one way: src/informers → src/database, never back. The database code (stores,
 * lineage, drift, observed state) must not import the informers, so that the stores can be used
 * and tested without them.
 */

const DATABASE = __dirname;
const INFORMERS = resolve(__dirname, '..', 'informers');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(entry => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

/** The module specifiers of static imports / re-exports, dynamic imports and requires. */
function specifiers(text: string): string[] {
  const out: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\b(?:import|require)\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bjest\.(?:mock|requireActual)\s*\(\s*['"]([^'"]+)['"]/g,
  ];
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) out.push(match[1]);
  }
  return out;
}

describe('src/database imports', () => {
  const files = sources(DATABASE).filter(file => file !== __filename);

  it('finds the database sources', () => {
    expect(files.length).toBeGreaterThan(10);
    expect(
      specifiers(
        "import { a } from '../informers/x';\nexport type { B } from \"./y\";\nconst c = await import('../z');",
      ),
    ).toEqual(['../informers/x', './y', '../z']);
  });

  it('never imports src/informers', () => {
    const offending: string[] = [];
    for (const file of files) {
      for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
        if (!specifier.startsWith('.')) continue;
        const target = resolve(dirname(file), specifier);
        if (target === INFORMERS || target.startsWith(INFORMERS + sep)) {
          offending.push(`${relative(DATABASE, file)} → ${specifier}`);
        }
      }
    }
    expect(offending).toEqual([]);
  });
});
