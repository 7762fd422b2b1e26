-- Emulator-wide settings that must survive a restart, such as where a
-- manual clock stood.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
