"""Long-running work: chunking, map-reduce plans, the job store and the Celery task that runs a job."""
