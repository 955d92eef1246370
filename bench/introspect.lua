wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC_APP")
wrk.body = "token=" .. os.getenv("BENCH_ACCESS")
