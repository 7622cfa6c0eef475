import { screen } from '@testing-library/react';
import { renderInTestApp } from '@backstage/test-utils';
import { areaUnderCurve, CurveChart } from './CurveChart';

describe('CurveChart', () => {
  it('draws each series with an accessible title, description and legend', async () => {
    await renderInTestApp(
      <CurveChart
        title="ROC curve"
        xLabel="False positive rate"
        yLabel="True positive rate"
        diagonal
        showArea
        series={[
          {
            name: 'v1',
            color: 'red',
            points: [
              { x: 0, y: 0 },
              { x: 1, y: 1 },
            ],
          },
          {
            name: 'v2',
            color: 'blue',
            points: [
              { x: 0, y: 0 },
              { x: 0, y: 1 },
              { x: 1, y: 1 },
            ],
          },
        ]}
      />,
    );
    const chart = screen.getByRole('img', { name: /ROC curve/ });
    expect(chart.querySelectorAll('polyline')).toHaveLength(2);
    expect(
      screen.getByText('v1: 2 points, area 0.500; v2: 3 points, area 1.000'),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('list', { name: 'ROC curve legend' }),
    ).toHaveTextContent('v2 (area 1.000)');
    expect(screen.getByText('False positive rate')).toBeInTheDocument();
  });

  it('says when there is no data', async () => {
    await renderInTestApp(
      <CurveChart
        title="Precision-recall curve"
        xLabel="Recall"
        yLabel="Precision"
        series={[{ name: 'v1', color: 'red', points: [] }]}
      />,
    );
    expect(
      screen.getByText(/No Precision-recall curve data/),
    ).toBeInTheDocument();
    expect(screen.queryByRole('img')).not.toBeInTheDocument();
  });

  it('computes the area under a curve', () => {
    expect(
      areaUnderCurve([
        { x: 1, y: 1 },
        { x: 0, y: 0 },
      ]),
    ).toBeCloseTo(0.5);
  });
});
