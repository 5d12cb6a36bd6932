@{
    try {
        return context.Request.Body.As<JObject>(preserveContent: true);
    } catch (Exception) {
        return new JObject();
    }
}
