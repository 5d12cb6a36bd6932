@{
    try {
        var body = context.Response.Body.As<JObject>(preserveContent: true);
        return body["id"]?.Type == JTokenType.String ? (string)body["id"] : "";
    } catch (Exception) {
        return "";
    }
}
