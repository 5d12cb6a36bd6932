@{
    long ms = -1;
    long parsed;
    if (long.TryParse(context.Response.Headers.GetValueOrDefault("retry-after-ms", ""), out parsed)) {
        ms = parsed;
    } else if (long.TryParse(context.Response.Headers.GetValueOrDefault("Retry-After", ""), out parsed)) {
        ms = parsed * 1000;
    }
    var seen = (long)context.Variables["retryAfterMs"];
    if (ms < 0) {
        return seen;
    }
    return (seen < 0 || ms < seen) ? ms : seen;
}
