import '@testing-library/jest-dom';
import { configure } from '@testing-library/react';

// The pages load lazily and render material-table; on a busy 2-core machine that can take more
// than testing-library's default second.
configure({ asyncUtilTimeout: 5000 });

// jsdom has no canvas: the lineage canvas draws nothing there (and must not crash).
Object.defineProperty(HTMLCanvasElement.prototype, 'getContext', {
  value: () => null,
  configurable: true,
});
