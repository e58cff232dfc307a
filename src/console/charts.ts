/**
 * The cockpit's trend chart: Apache ECharts, tree-shaken to a line + bar chart on canvas, in its own chunk
 * that only the cockpit loads. Two y-axes with labels (orders and redemptions; revenue in yuan), a tooltip,
 * and ECharts' aria description so a screen reader hears what the chart shows.
 */
import { BarChart, LineChart } from "echarts/charts";
import { AriaComponent, GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([LineChart, BarChart, GridComponent, TooltipComponent, LegendComponent, AriaComponent, CanvasRenderer]);

export interface TrendInput {
  labels: string[];
  orders: number[];
  redemptions: number[];
  revenueYuan: number[];
  names: { orders: string; redemptions: string; revenue: string };
  formatMoney: (yuan: number) => string;
}

export function drawTrend(el: HTMLElement, input: TrendInput): () => void {
  const chart = echarts.getInstanceByDom(el) ?? echarts.init(el, undefined, { renderer: "canvas" });
  const wide = el.clientWidth > 600; // on a phone the legend names the axes
  chart.setOption(
    {
      aria: { enabled: true },
      animation: false,
      grid: { left: 8, right: 8, top: wide ? 36 : 16, bottom: 40, containLabel: true },
      tooltip: { trigger: "axis" },
      legend: { bottom: 0 },
      xAxis: { type: "category", data: input.labels },
      yAxis: [
        // Axis names start at their axis and run inwards, so a long one is never cut at the chart's edge.
        {
          type: "value",
          name: wide ? `${input.names.orders} / ${input.names.redemptions}` : "",
          nameTextStyle: { align: "left" },
          minInterval: 1,
        },
        {
          type: "value",
          name: wide ? input.names.revenue : "",
          nameTextStyle: { align: "right" },
          axisLabel: { formatter: (v: number) => input.formatMoney(v) },
        },
      ],
      series: [
        {
          name: wide ? input.names.revenue : "",
          type: "bar",
          yAxisIndex: 1,
          data: input.revenueYuan,
          itemStyle: { color: "#9ec5fe" },
        },
        { name: input.names.orders, type: "line", data: input.orders, itemStyle: { color: "#0b5cad" } },
        { name: input.names.redemptions, type: "line", data: input.redemptions, itemStyle: { color: "#16794a" } },
      ],
    },
    true,
  );
  const resize = () => chart.resize();
  window.addEventListener("resize", resize);
  return () => window.removeEventListener("resize", resize);
}
