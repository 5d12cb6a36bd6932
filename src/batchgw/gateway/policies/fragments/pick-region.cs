@{
    var names = ${names};
    var weights = ${weights};
    var priorities = ${priorities};
    var tried = (string)context.Variables["tried"];
    var open = Enumerable.Range(0, names.Length).Where(i => !tried.Contains("," + names[i] + ",")).ToList();
    if (open.Count == 0) {
        return "";
    }
    var best = open.Min(i => priorities[i]);
    var tier = open.Where(i => priorities[i] == best).ToList();
    var roll = new Random().Next(Math.Max(1, tier.Sum(i => weights[i])));
    foreach (var i in tier) {
        if (roll < weights[i]) {
            return names[i];
        }
        roll -= weights[i];
    }
    return names[tier[0]];
}
