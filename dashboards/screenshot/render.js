// Draws window.DASHBOARD_DATA (see DashboardSnapshot): one chart per dashboard panel, the fault
// periods shaded, axes labelled in the panel's unit.
(function () {
  const data = window.DASHBOARD_DATA;
  const FAULT_COLORS = ['rgba(255,200,0,0.16)', 'rgba(255,120,0,0.18)', 'rgba(240,40,40,0.20)'];
  const FAULT_SWATCH = ['rgba(255,200,0,0.7)', 'rgba(255,120,0,0.7)', 'rgba(240,40,40,0.7)'];
  const PALETTE = ['#73bf69', '#f2cc0c', '#8ab8ff', '#ff780a', '#f2495c', '#5794f2', '#b877d9',
    '#fade2a', '#37872d', '#c4162a', '#1f60c4', '#8f3bb8'];
  // the rows of the dashboard, by the title of their first panel
  const ROWS = {
    'Operation rate by operation and server': 'Operations',
    'Retries by outcome': 'Retries',
    'Timeouts by kind': 'Timeouts and connections',
    'Health checks by outcome': 'Health checks',
    'Maintenance notifications by type': 'Maintenance (Smart Client Handoffs)',
    'Spans dropped': "The agent's own health",
  };
  const EMPTY_WHY = {
    'Maintenance notifications by type': 'no series: Smart Client Handoffs are not built yet',
    'Relaxed-timeout connections': 'no series: Smart Client Handoffs are not built yet',
    'Handoffs by outcome': 'no series: Smart Client Handoffs are not built yet',
    'Agent faults by kind': 'no series: no fault inside the agent (as it should be)',
  };

  function yAxis(panel) {
    if (panel.unit === 's') return { title: 'milliseconds (log scale)', scale: 1000, log: true };
    if (panel.unit === 'ops') return { title: 'operations per second', scale: 1 };
    if (panel.title === 'Relaxed-timeout connections') return { title: 'connections', scale: 1 };
    if (panel.title === 'Agent faults by kind') return { title: 'faults per 4 s', scale: 1 };
    if (panel.title.startsWith('Downtime')) return { title: 'per second (downtime: s per s)', scale: 1 };
    return { title: 'per second', scale: 1 };
  }

  const faultBands = {
    id: 'faultBands',
    beforeDatasetsDraw(chart) {
      const x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
      data.faults.forEach((f, i) => {
        const left = Math.max(x.getPixelForValue(f.from), area.left);
        const right = Math.min(x.getPixelForValue(f.to), area.right);
        ctx.save();
        ctx.fillStyle = FAULT_COLORS[i % FAULT_COLORS.length];
        ctx.fillRect(left, area.top, right - left, area.bottom - area.top);
        ctx.restore();
      });
    },
    afterDraw(chart) {
      if (chart.data.datasets.length > 0) return;
      const area = chart.chartArea, ctx = chart.ctx;
      ctx.save();
      ctx.fillStyle = '#9fa7b3';
      ctx.font = '12px "DejaVu Sans", Arial, sans-serif';
      ctx.textAlign = 'center';
      ctx.fillText(chart.options.plugins.emptyText || 'no series', (area.left + area.right) / 2,
        (area.top + area.bottom) / 2);
      ctx.restore();
    },
  };

  document.getElementById('sub').textContent =
    'Demo app (2 Jedis threads on a JedisPool + 1 Lettuce thread, ~900 calls/s) with the agent\'s scrape endpoint; ' +
    'Prometheus scraping it every second; $__rate_interval = 4 s (Grafana\'s value for a 1 s scrape interval), so a rate lags its fault by up to 4 s. ' + data.note + '.';
  document.getElementById('faults').innerHTML = data.faults.map((f, i) =>
    '<span><i style="background:' + FAULT_SWATCH[i] + '"></i>' + f.from + '-' + f.to + ' s: ' + f.label + '</span>').join('');

  const root = document.getElementById('panels');
  let grid = null;
  Chart.defaults.color = '#9fa7b3';
  Chart.defaults.borderColor = 'rgba(204,204,220,0.10)';
  Chart.defaults.font.family = '"DejaVu Sans", Arial, sans-serif';
  Chart.defaults.font.size = 10;
  data.panels.forEach(panel => {
    if (ROWS[panel.title] || grid === null) {
      const row = document.createElement('div');
      row.className = 'row';
      row.textContent = ROWS[panel.title] || '';
      root.appendChild(row);
      grid = document.createElement('div');
      grid.className = 'grid';
      root.appendChild(grid);
    }
    const box = document.createElement('div');
    box.className = 'panel';
    box.innerHTML = '<h2></h2><div style="position:relative;height:250px"><canvas></canvas></div>';
    box.querySelector('h2').textContent = panel.title;
    grid.appendChild(box);
    const y = yAxis(panel);
    const datasets = panel.series.map((s, i) => ({
      label: s.name,
      data: s.points.map(p => ({ x: p[0], y: p[1] * y.scale })).filter(p => !y.log || p.y > 0),
      borderColor: PALETTE[i % PALETTE.length],
      backgroundColor: PALETTE[i % PALETTE.length],
      borderWidth: 1.4, pointRadius: 0, tension: 0, spanGaps: false,
    }));
    new Chart(box.querySelector('canvas'), {
      type: 'line',
      data: { datasets },
      plugins: [faultBands],
      options: {
        animation: false, responsive: true, maintainAspectRatio: false, parsing: false,
        plugins: {
          legend: { position: 'bottom', labels: { boxWidth: 10, boxHeight: 2, padding: 6 } },
          emptyText: EMPTY_WHY[panel.title] || 'no series',
        },
        scales: {
          x: { type: 'linear', min: -3, max: data.seconds,
               title: { display: true, text: 'seconds since the fault timeline started' } },
          y: Object.assign({ title: { display: true, text: y.title } },
               y.log ? { type: 'logarithmic' } : { type: 'linear', beginAtZero: true }),
        },
      },
    });
  });
})();
