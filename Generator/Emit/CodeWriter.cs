using System;
using System.Text;

namespace Dsl.Generator.Emit;

/// <summary>A small indent-tracking writer: '\n' line endings whatever the platform, four spaces per level.</summary>
internal sealed class CodeWriter
{
    private readonly StringBuilder _text = new();
    private int _indent;

    public CodeWriter Line(string line = "")
    {
        if (line.Length > 0)
        {
            _text.Append(' ', _indent * 4).Append(line);
        }
        _text.Append('\n');
        return this;
    }

    /// <summary>Writes <paramref name="header"/>, an opening brace, and indents until the returned scope is disposed.</summary>
    public IDisposable Block(string header)
    {
        Line(header);
        Line("{");
        _indent++;
        return new Scope(this);
    }

    /// <summary>Writes every line of <paramref name="text"/> (another writer's output) at this writer's indentation.</summary>
    public void Lines(string text)
    {
        var lines = text.Split('\n');
        // The text ends with a line break: its last piece is empty.
        for (int i = 0; i < lines.Length - 1; i++)
        {
            Line(lines[i]);
        }
    }

    public override string ToString() => _text.ToString();

    private sealed class Scope : IDisposable
    {
        private readonly CodeWriter _writer;

        public Scope(CodeWriter writer) => _writer = writer;

        public void Dispose()
        {
            _writer._indent--;
            _writer.Line("}");
        }
    }
}
