"""WW shock tests: shock specifications, the report of one shock, the stress grid."""
