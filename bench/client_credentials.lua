wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC_SERVICE")
wrk.body = "grant_type=client_credentials&scope=users%3Aread"
