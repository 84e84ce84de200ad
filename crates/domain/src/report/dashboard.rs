//! The service at a glance for a manager (issue 16, part 6).
