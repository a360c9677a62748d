# The Airflow release itself, from the official chart, with the same values files a manual
# `helm upgrade --install` uses (helm/README.md). The chart's migration and create-user jobs run as
# plain resources (useHelmHooks: false in helm/values.yaml), so `wait = true` works: Helm waits for
# the pods, whose init containers wait for the migration job.

resource "helm_release" "airflow" {
  name       = var.release_name
  namespace  = var.namespace
  repository = "https://airflow.apache.org"
  chart      = "airflow"
  version    = var.chart_version

  values = var.values

  set = [
    {
      name  = "defaultAirflowTag"
      value = var.image_tag
      type  = "string"
    },
  ]

  create_namespace = false
  wait             = true
  wait_for_jobs    = true
  timeout          = var.timeout_seconds
  atomic           = false
  max_history      = 10
}
