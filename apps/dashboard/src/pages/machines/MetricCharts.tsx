import '@mantine/charts/styles.css';

import { LineChart } from '@mantine/charts';
import { SimpleGrid, Text } from '@mantine/core';

import type { MetricHistoryView } from '../../api/types';
import { clock, percent } from '../../components/format';

function Chart({
  title,
  data,
  series,
  unit,
}: {
  title: string;
  data: Record<string, unknown>[];
  series: { name: string; color: string }[];
  unit: string;
}) {
  return (
    <div>
      <Text size="sm" fw={600} mb={4}>
        {title}
      </Text>
      {data.length === 0 ? (
        <Text size="sm" c="dimmed">
          No samples yet.
        </Text>
      ) : (
        <LineChart
          h={160}
          data={data}
          dataKey="time"
          series={series}
          curveType="linear"
          withDots={false}
          yAxisProps={{ domain: [0, 100], width: 40 }}
          unit={unit}
          withLegend={series.length > 1}
          tickLine="none"
        />
      )}
    </div>
  );
}

/** CPU, memory, disk and GPU over the last hour, from the gateway's samples, extended live by heartbeats. */
export default function MetricCharts({ history }: { history: MetricHistoryView }) {
  const rows = history.samples.map((s) => ({
    time: clock(s.at),
    cpu: s.cpuPercent === null ? null : Math.round(s.cpuPercent),
    memory: percent(s.memoryUsedMb, s.memoryTotalMb),
    disk: percent(s.diskUsedMb, s.diskTotalMb),
    ...Object.fromEntries(s.gpus.map((g, i) => [`gpu${i}`, g.utilizationPercent])),
  }));
  const gpuCount = Math.max(0, ...history.samples.map((s) => s.gpus.length));
  const colours = ['violet.6', 'grape.6', 'pink.6', 'indigo.6'];
  return (
    <SimpleGrid cols={{ base: 1, sm: 2 }} data-testid="metric-charts">
      <Chart title="CPU %" unit="%" data={rows} series={[{ name: 'cpu', color: 'blue.6' }]} />
      <Chart title="Memory used %" unit="%" data={rows} series={[{ name: 'memory', color: 'teal.6' }]} />
      <Chart title="Disk used %" unit="%" data={rows} series={[{ name: 'disk', color: 'orange.6' }]} />
      {gpuCount > 0 ? (
        <Chart
          title="GPU %"
          unit="%"
          data={rows}
          series={Array.from({ length: gpuCount }, (_, i) => ({
            name: `gpu${i}`,
            color: colours[i % colours.length]!,
          }))}
        />
      ) : (
        <div>
          <Text size="sm" fw={600} mb={4}>
            GPU
          </Text>
          <Text size="sm" c="dimmed">
            No GPU reported.
          </Text>
        </div>
      )}
    </SimpleGrid>
  );
}
