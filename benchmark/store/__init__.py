"""The run store: the run record (`records`), and records and weights on disk under the home (`runs`)."""
