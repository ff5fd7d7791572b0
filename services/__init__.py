"""Services built on the engine core, used by app/: scans of files and folders, multi-stream monitoring
(threads or Ray), the Ray cluster connection and the alert policy."""
