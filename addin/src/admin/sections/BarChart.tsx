// A dependency-free horizontal bar chart in SVG: one labelled bar per group, the value at its end.
import type { Bar } from "../usage";

const ROW = 26;
const LABEL_WIDTH = 190;
const WIDTH = 720;

export function BarChart({ bars, title, format }: { bars: Bar[]; title: string; format: (value: number) => string }) {
  if (bars.length === 0) return <p data-testid="chart-empty">No usage in this range.</p>;
  const max = Math.max(...bars.map((bar) => bar.value), 0) || 1;
  const plot = WIDTH - LABEL_WIDTH - 90;
  return (
    <svg role="img" aria-label={title} data-testid="usage-chart" width={WIDTH} height={bars.length * ROW + 8} className="admin-chart">
      <title>{title}</title>
      {bars.map((bar, index) => {
        const y = index * ROW + 4;
        const width = Math.max((bar.value / max) * plot, bar.value > 0 ? 2 : 0);
        return (
          <g key={bar.key} data-key={bar.key} data-label={bar.label} data-value={bar.value}>
            <text x={LABEL_WIDTH - 8} y={y + 15} textAnchor="end" fontSize="12">
              {bar.label.length > 28 ? `${bar.label.slice(0, 27)}…` : bar.label}
            </text>
            <rect x={LABEL_WIDTH} y={y} width={width} height={ROW - 8} rx="2" fill="#0f6cbd" />
            <text x={LABEL_WIDTH + width + 6} y={y + 15} fontSize="12">
              {format(bar.value)}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
