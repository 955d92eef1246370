-- GET /authorize without a cookie: the login page and a new pre-login cookie (nothing stored).
wrk.method = "GET"
