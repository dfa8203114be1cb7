// The dashboard's daily trend as plain arrays (pure: no DOM, no Chart.js), from the API's
// answers and the business date: charts.js draws it, the view's table lists it.

import { addDays, days as calendarDays, daysInMonth, lastDay, monthOf } from "./calendar.js";

const TREND_DAYS = 30;

/** The trend's series, aligned by day: actuals up to the last day with figures, then forecast. */
export function trendSeries(costs, summary, today) {
  const forecast = summary.forecast;
  const byDay = new Map(costs.daily.map((d) => [d.date, Number(d.cost.amount)]));
  // The last day with actual figures: the forecast says; otherwise the last non-zero day.
  let lastActual = forecast ? forecast.asOf : null;
  if (!lastActual) {
    const spent = costs.daily.filter((d) => Number(d.cost.amount) !== 0).map((d) => d.date);
    lastActual = spent.length ? spent[spent.length - 1] : addDays(today, -1);
  }
  if (lastActual > today) lastActual = today;
  let firstActual = addDays(lastActual, -(TREND_DAYS - 1));
  if (firstActual < costs.startDate) firstActual = costs.startDate;
  const forecastByDay = new Map((forecast ? forecast.daily : []).map((p) => [p.date, p]));
  // The forecast runs to the period's last day (the summary's, else the definition's).
  const end = forecast ? summary.periodEnd || lastDay(monthOf(today)) : lastActual;
  const days = calendarDays(firstActual, addDays(end > lastActual ? end : lastActual, 1));
  const limit = summary.budget && !summary.currencyMismatch ? Number(summary.budget.monthlyLimit.amount) : null;
  const series = { days, actual: [], forecast: [], lower: [], upper: [], pace: [] };
  for (const day of days) {
    const isActual = day <= lastActual;
    const point = forecastByDay.get(day);
    series.actual.push(isActual ? (byDay.get(day) ?? 0) : null);
    // The forecast line starts at the last actual point, so the two lines join.
    if (day === lastActual && forecast) {
      const value = byDay.get(day) ?? 0;
      series.forecast.push(value);
      series.lower.push(value);
      series.upper.push(value);
    } else {
      series.forecast.push(!isActual && point ? Number(point.expected.amount) : null);
      series.lower.push(!isActual && point ? Number(point.lower80.amount) : null);
      series.upper.push(!isActual && point ? Number(point.upper80.amount) : null);
    }
    series.pace.push(limit !== null ? Math.round((limit / daysInMonth(monthOf(day))) * 100) / 100 : null);
  }
  series.lastActual = lastActual;
  series.actualTotal = series.actual.reduce((sum, v) => sum + (v || 0), 0);
  return series;
}
