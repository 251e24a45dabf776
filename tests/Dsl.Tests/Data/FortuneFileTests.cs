using System.Text;
using Dsl.Data.Text;
using Xunit;

namespace Dsl.Tests.Data;

public class FortuneFileTests
{
    private static (List<FortuneQuote> Quotes, List<SkippedQuote> Skipped) Parse(string text, string topic = "inline")
        => FortuneFile.Parse(Encoding.UTF8.GetBytes(text), topic);

    [Fact]
    public void Quotes_are_split_on_percent_lines_and_keep_their_inner_lines_and_tabs()
    {
        var (quotes, skipped) = Parse("First line\n\tsecond line\n%\nA % inside is text\n%\nLast, with no separator after it");
        Assert.Empty(skipped);
        Assert.Equal(["First line\n\tsecond line", "A % inside is text", "Last, with no separator after it"], quotes.Select(q => q.Text));
        Assert.Equal([1, 4, 6], quotes.Select(q => q.Line));
        Assert.All(quotes, q => Assert.Equal("inline", q.Topic));
    }

    [Fact]
    public void A_final_separator_and_crlf_line_ends_and_a_byte_order_mark_change_nothing()
    {
        var plain = Parse("one\ntwo\n%\nthree\n%\n").Quotes.Select(q => q.Text);
        var windows = Parse("\uFEFFone\r\ntwo\r\n%\r\nthree\r\n%\r\n").Quotes.Select(q => q.Text);
        Assert.Equal(["one\ntwo", "three"], plain);
        Assert.Equal(plain, windows);
    }

    [Fact]
    public void Empty_quotes_are_skipped_with_their_line_and_a_reason()
    {
        var (quotes, skipped) = Parse("%\nalpha\n%\n%\n   \n\t\n%\nbeta\n%\n");
        Assert.Equal(["alpha", "beta"], quotes.Select(q => q.Text));
        Assert.Equal(2, skipped.Count);
        Assert.Equal(4, skipped[0].Line);
        Assert.Contains("empty quote", skipped[0].Reason);
        Assert.Equal(5, skipped[1].Line);
        Assert.Contains("white space", skipped[1].Reason);
    }

    [Fact]
    public void Invalid_utf8_is_refused_with_its_line_and_offset()
    {
        byte[] bytes = [.. "good\n%\nbad "u8, 0xC3, 0x28, .. "\n%\n"u8];
        var e = Assert.Throws<FortunesFormatException>(() => FortuneFile.Parse(bytes, "broken"));
        Assert.Contains("broken", e.Message);
        Assert.Contains("invalid UTF-8", e.Message);
        Assert.Contains("line 3", e.Message);
        Assert.Contains("offset 11", e.Message);
    }

    [Fact]
    public void A_binary_file_is_refused()
    {
        byte[] bytes = [0, 0, 0, 2, 0, 0, 1, 7, .. "%\n"u8];
        var e = Assert.Throws<FortunesFormatException>(() => FortuneFile.Parse(bytes, "computers.dat"));
        Assert.Contains("NUL byte at offset 0", e.Message);
    }

    [Fact]
    public void Text_without_any_separator_is_not_a_fortunes_file()
    {
        var e = Assert.Throws<FortunesFormatException>(() => Parse("# a README\nwith two lines\n", "README"));
        Assert.Contains("no line holding only '%'", e.Message);
    }

    [Fact]
    public void Read_takes_the_topic_from_the_file_name()
    {
        using var folder = new TempFolder();
        File.WriteAllText(folder.File("science"), "E = mc^2\n%\n");
        var (quotes, _) = FortuneFile.Read(folder.File("science"));
        Assert.Equal("science", Assert.Single(quotes).Topic);
    }
}
