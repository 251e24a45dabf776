using System.Text;

namespace Dsl.Data.Text;

/// <summary>
/// Reads one fortunes file: UTF-8 text whose quotes are separated by lines holding only <c>%</c> (the format of
/// BSD <c>fortune</c>/<c>strfile</c>). Line ends may be <c>\n</c> or <c>\r\n</c>; a leading byte-order mark is
/// ignored. Whole-file problems refuse the file; a bad quote is skipped with a reason.
/// </summary>
public static class FortuneFile
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Parses the file at <paramref name="path"/>; its topic is the file name.</summary>
    /// <exception cref="FortunesFormatException">The file is not a fortunes file.</exception>
    public static (List<FortuneQuote> Quotes, List<SkippedQuote> Skipped) Read(string path)
        => Parse(File.ReadAllBytes(path), Path.GetFileName(path), path);

    /// <summary>
    /// Parses <paramref name="bytes"/> as a fortunes file of <paramref name="topic"/>. Refused (throws): invalid
    /// UTF-8 (with the line and byte offset), a NUL byte (a binary file such as a <c>.dat</c> index), and text
    /// without a single <c>%</c> separator line. Skipped (returned with a reason): quotes that are empty or only
    /// white space.
    /// </summary>
    /// <param name="bytes">The file's content.</param>
    /// <param name="topic">The topic the quotes get.</param>
    /// <param name="source">Names the file in errors (defaults to the topic).</param>
    /// <exception cref="FortunesFormatException">The content is not a fortunes file.</exception>
    public static (List<FortuneQuote> Quotes, List<SkippedQuote> Skipped) Parse(ReadOnlySpan<byte> bytes, string topic, string? source = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        source ??= topic;
        int nul = bytes.IndexOf((byte)0);
        if (nul >= 0)
        {
            throw new FortunesFormatException(source, $"not a fortunes file: a NUL byte at offset {nul} (binary data, e.g. a .dat index).");
        }
        int bom = bytes.StartsWith("\uFEFF"u8) ? 3 : 0;
        bytes = bytes[bom..];
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            int offset = Math.Max(e.Index, 0);
            int line = 1 + bytes[..Math.Min(offset, bytes.Length)].Count((byte)'\n');
            throw new FortunesFormatException(source, $"invalid UTF-8 at byte offset {bom + offset} (line {line}); the file must be UTF-8 text.");
        }

        var quotes = new List<FortuneQuote>();
        var skipped = new List<SkippedQuote>();
        var current = new StringBuilder();
        int lineNumber = 0;
        int start = 1;
        int separators = 0;
        bool open = false;
        foreach (var raw in text.AsSpan().EnumerateLines())
        {
            lineNumber++;
            var line = raw;
            if (line is "%")
            {
                separators++;
                // A separator on the first line opens the file, as some files do: no quote is missing before it.
                if (open || lineNumber > 1)
                {
                    Close(current, topic, start, open, quotes, skipped);
                }
                current.Clear();
                open = false;
                start = lineNumber + 1;
                continue;
            }
            if (open)
            {
                current.Append('\n');
            }
            current.Append(line);
            open = true;
        }
        // EnumerateLines yields one empty line after a final line break: that is not a quote line.
        if (open && current.Length == 0 && text.EndsWith('\n'))
        {
            open = false;
        }
        if (separators == 0)
        {
            throw new FortunesFormatException(source, "not a fortunes file: no line holding only '%' separates quotes.");
        }
        if (open)
        {
            // The last quote needs no closing separator; a final separator closes nothing more.
            Close(current, topic, start, open, quotes, skipped);
        }
        return (quotes, skipped);
    }

    private static void Close(StringBuilder current, string topic, int start, bool open, List<FortuneQuote> quotes, List<SkippedQuote> skipped)
    {
        if (!open)
        {
            skipped.Add(new SkippedQuote(topic, start, "empty quote (two '%' lines in a row)"));
            return;
        }
        // A file ending in "\n" leaves the last quote with a trailing break; quotes never end in one.
        string quote = current.ToString().TrimEnd('\n');
        if (string.IsNullOrWhiteSpace(quote))
        {
            skipped.Add(new SkippedQuote(topic, start, "empty quote (only white space)"));
            return;
        }
        quotes.Add(new FortuneQuote(quote, topic, start));
    }
}
