"""RQ workers: send check-ins and alerts, and re-dispatch what the database says is due."""
