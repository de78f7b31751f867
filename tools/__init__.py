"""Tools around the pipeline: the pull-request report, sweeps on CI runners, the offline plots page."""
