-- GET /authorize with a signed-in session whose client needs no consent: the 302 carries a new
-- authorization code (session, user and client look-ups, one code insert).
wrk.headers["Cookie"] = "irongate_session=" .. os.getenv("BENCH_SESSION")
