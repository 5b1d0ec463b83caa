"""Personal data (个人信息): encrypted in the log with a key per person, erasable by
destroying that key (docs/privacy.md)."""
