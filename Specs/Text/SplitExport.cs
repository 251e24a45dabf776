using System.Text.Json;
using Dsl.Data.Text;

namespace Specs.Text;

/// <summary>
/// Writes a split as <c>train.jsonl</c>, <c>valid.jsonl</c>, <c>test.jsonl</c> (one <c>{"label": i, "topic": name,
/// "text": quote}</c> per line) and <c>topics.json</c>, so an outside tool (<c>sklearn_baseline.py</c>) trains on
/// exactly the same quotes.
/// </summary>
public static class SplitExport
{
    public static void WriteJsonLines(TextSplit split, string folder)
    {
        ArgumentNullException.ThrowIfNull(split);
        Directory.CreateDirectory(folder);
        foreach (var (name, quotes) in new[] { ("train", split.Train), ("valid", split.Valid), ("test", split.Test) })
        {
            long[] labels = split.Labels(quotes);
            File.WriteAllLines(Path.Combine(folder, name + ".jsonl"),
                quotes.Select((q, i) => JsonSerializer.Serialize(new { label = labels[i], topic = q.Topic, text = q.Text })));
        }
        File.WriteAllText(Path.Combine(folder, "topics.json"), JsonSerializer.Serialize(split.Topics));
    }
}
