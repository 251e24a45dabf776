using System.Globalization;
using Dsl;
using Dsl.Data.Text;
using Spectre.Console;
using Specs.Text;

namespace Specs.Cli;

/// <summary>
/// Where an attention-pooling classifier looks: for a few test quotes (one per topic, of readable length), the
/// predicted and true topic and a table of every word with its attention weight and a bar.
/// </summary>
public static class AttentionTable
{
    /// <summary>Quotes shown have between this many and <see cref="LongestShown"/> tokens.</summary>
    public const int ShortestShown = 5;

    public const int LongestShown = 24;

    /// <summary>Runs <paramref name="net"/> (in evaluation mode) on <paramref name="count"/> test quotes and prints their tables.</summary>
    public static void Show<TNet>(CliOutput cli, TNet net, TopicData data, Func<TNet, PaddedBatch, Tensor> forward, Func<TNet, Tensor> attention, int count)
        where TNet : Module
    {
        net.Eval();
        var device = net.Device;
        var shownTopics = new HashSet<string>(StringComparer.Ordinal);
        int shown = 0;
        for (int i = 0; i < data.Test.Length && shown < count; i++)
        {
            var quote = data.Split.Test[i];
            int[] ids = data.Test[i];
            int length = Array.IndexOf(ids, Vocabulary.PadId) is var pad && pad >= 0 ? pad : ids.Length;
            if (length < ShortestShown || length > LongestShown || !shownTopics.Add(quote.Topic))
            {
                continue;
            }
            shown++;
            int t = ids.Length;
            var tokens = Tensor.From(ids.Select(id => (long)id).ToArray(), device, 1, t);
            var mask = Tensor.From(Enumerable.Range(0, t).Select(_ => 1f).ToArray(), device, 1, t);
            var scores = forward(net, new PaddedBatch(tokens, mask, new[] { t }, null, new[] { i }, 0)).ToArray();
            float[] weights = attention(net).ToArray();
            var probabilities = Softmax(scores);
            int predicted = Array.IndexOf(probabilities, probabilities.Max());
            // Plain lines: a console table wraps long prose; the quote is read whole.
            cli.Out.WriteLine();
            cli.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"\"{OneLine(quote.Text)}\"  topic {quote.Topic}, predicted {data.Split.Topics[predicted]} ({100 * probabilities[predicted]:F0}%)"));
            var table = new Table().AddColumns("word", "attention", "").HideHeaders().Border(TableBorder.Simple);
            float most = weights.Take(length).Max();
            for (int s = 0; s < length; s++)
            {
                int bar = (int)Math.Round(30 * weights[s] / Math.Max(most, 1e-9f));
                table.AddRow(Markup.Escape(data.Vocabulary[ids[s]]), weights[s].ToString("F3", CultureInfo.InvariantCulture), new string('#', bar));
            }
            cli.Console.Write(table);
        }
        if (shown == 0)
        {
            cli.Out.WriteLine($"no test quote has {ShortestShown} to {LongestShown} tokens to show");
        }
    }

    /// <summary>softmax of logits or log-probabilities (the same, as these differ by a constant).</summary>
    private static double[] Softmax(float[] scores)
    {
        double max = scores.Max();
        var e = scores.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }

    private static string OneLine(string text) => string.Join(" ", text.Split((char[])['\n', '\t', ' '], StringSplitOptions.RemoveEmptyEntries));
}
