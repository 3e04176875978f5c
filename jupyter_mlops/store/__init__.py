"""Everything that talks to MLflow. Library code passes explicit tracking URIs; no fluent state."""
