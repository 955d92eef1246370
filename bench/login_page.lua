-- GET /authorize without a cookie: the login page, and a new anonymous session row for its
-- CSRF token.
wrk.method = "GET"
