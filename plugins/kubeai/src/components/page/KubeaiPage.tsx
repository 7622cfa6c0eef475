import { TabbedLayout } from '@backstage/core-components';
import { Route, Routes } from 'react-router-dom';
import { LineagePage } from '../lineage/LineagePage';
import { RunRoute } from '../run/RunView';
import { DatasetsTab } from './DatasetsTab';
import { ModelsTab } from './ModelsTab';
import { NotebooksTab } from './NotebooksTab';
import { RunsTab } from './RunsTab';
import { ServicesTab } from './ServicesTab';

/**
 * The KubeAI page: tabs Models, Datasets, Inference services, Runs (and `runs/:runId`),
 * Notebooks and Lineage, each reachable by URL (`/kubeai/models`, …).
 */
export function KubeaiPage() {
  return (
    <TabbedLayout>
      <TabbedLayout.Route path="/models" title="Models">
        <ModelsTab />
      </TabbedLayout.Route>
      <TabbedLayout.Route path="/datasets" title="Datasets">
        <DatasetsTab />
      </TabbedLayout.Route>
      <TabbedLayout.Route path="/services" title="Inference services">
        <ServicesTab />
      </TabbedLayout.Route>
      <TabbedLayout.Route path="/runs" title="Runs">
        <Routes>
          <Route path="/" element={<RunsTab />} />
          <Route path=":runId" element={<RunRoute />} />
        </Routes>
      </TabbedLayout.Route>
      <TabbedLayout.Route path="/notebooks" title="Notebooks">
        <NotebooksTab />
      </TabbedLayout.Route>
      <TabbedLayout.Route path="/lineage" title="Lineage">
        <LineagePage />
      </TabbedLayout.Route>
    </TabbedLayout>
  );
}
