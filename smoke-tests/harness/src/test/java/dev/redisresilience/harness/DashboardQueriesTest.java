package dev.redisresilience.harness;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Metric-name extraction and variable substitution, on expressions shaped like the shipped ones. */
class DashboardQueriesTest {
  @Test
  void metricNamesLeaveOutFunctionsLabelsAndKeywords() {
    assertThat(
            DashboardQueries.metricNames(
                "histogram_quantile(0.99, sum by (le, db_operation_name) (rate("
                    + "db_client_operation_duration_seconds_bucket{service_name=~\".*\","
                    + " error_type!=\"\"}[5s])))"))
        .containsExactly("db_client_operation_duration_seconds_bucket");
    assertThat(
            DashboardQueries.metricNames(
                "sum by (service_name) (redis_client_connection_relaxed_timeout) > 0\n"
                    + "or\n"
                    + "sum by (service_name) (increase(redis_client_maintenance_notifications_total"
                    + "{redis_client_connection_notification=~\"MOVING|MIGRATING\"}[5m])) > 0"))
        .containsExactly(
            "redis_client_connection_relaxed_timeout", "redis_client_maintenance_notifications_total");
    assertThat(
            DashboardQueries.metricNames(
                "sum by (a) (increase(x_total{o=\"failure\"}[5m])) > 0 unless on (a) sum by (a)"
                    + " (increase(y_total[5m])) > 0"))
        .containsExactly("x_total", "y_total");
  }

  @Test
  void variablesMatchEverythingAndTheRateIntervalIsConcrete() {
    assertThat(
            DashboardQueries.substitute(
                "rate(m{service_name=~\"$service\", server_address=~\"${server}\"}[$__rate_interval])",
                "5s"))
        .isEqualTo("rate(m{service_name=~\".*\", server_address=~\".*\"}[5s])");
  }
}
