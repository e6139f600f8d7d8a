"""Ready-made configurations, at Parsl's module paths (``parsl.configs.local_threads``)."""
