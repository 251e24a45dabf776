using Xunit;
using SymbolicDim = Dsl.Generator.Shapes.Dim;

namespace Dsl.Tests.Generator;

/// <summary>The generator's symbolic dimensions: canonical forms, so agreement is equality, and checked arithmetic.</summary>
public class DimTests
{
    private static readonly SymbolicDim T = SymbolicDim.Symbol("T");
    private static readonly SymbolicDim S = SymbolicDim.Symbol("S");

    [Fact]
    public void Arithmetic_stays_symbolic_and_prints_as_written()
    {
        Assert.Equal("T-4", (T - 5 + 1).ToString());
        Assert.Equal("2*T", (T * 2).ToString());
        Assert.Equal("2*T+1", (T + T + 1).ToString());
        Assert.Equal("S*T", (T * S).ToString());
        Assert.Equal("-T+3", (SymbolicDim.Of(3) - T).ToString());
        Assert.Equal("12", (SymbolicDim.Of(3) * SymbolicDim.Of(4)).ToString());
    }

    [Fact]
    public void Equal_forms_agree_and_different_ones_never_do()
    {
        Assert.Equal(T + 1 - 1, T);
        Assert.Equal(T * S, S * T);
        Assert.Equal((T - 3 + 3) * 2, T + T);
        Assert.NotEqual(T, S);
        Assert.NotEqual(T, SymbolicDim.Of(1));
        Assert.NotEqual(T - T, T);
        Assert.True((T - T).IsConstant);
    }

    [Fact]
    public void Floor_division_is_exact_when_it_divides_and_kept_whole_otherwise()
    {
        Assert.Equal(T + 2, (T * 2 + 4).FloorDiv(2));
        Assert.Equal("(T-3)/2+1", ((T - 3).FloorDiv(2) + 1).ToString());
        Assert.Equal(-2, SymbolicDim.FloorDiv(-3, 2));
        Assert.Equal(SymbolicDim.Of(-2), SymbolicDim.Of(-3).FloorDiv(2));
        Assert.Equal(SymbolicDim.Of(3), SymbolicDim.Of(7).FloorDiv(2));
    }

    [Fact]
    public void Generated_code_reads_the_symbols_locals()
    {
        Assert.Equal("dimT", T.Code);
        Assert.Equal("checked(2 * dimT - 4)", (T * 2 - 4).Code);
        Assert.Equal("16", SymbolicDim.Of(16).Code);
    }

    [Fact]
    public void Overflow_throws_so_the_expander_reports_DSL1010()
    {
        Assert.Throws<OverflowException>(() => T * long.MaxValue * 2);
        Assert.Throws<OverflowException>(() => T + long.MaxValue + 1);
    }

    [Theory]
    [InlineData("T", true)]
    [InlineData("Seq2", true)]
    [InlineData("N", false)]
    [InlineData("", false)]
    [InlineData("2T", false)]
    [InlineData("T-1", false)]
    [InlineData("T_", false)]
    [InlineData("Abcdefghijklmnopq", false)]
    public void Symbol_names_are_letters_then_letters_or_digits(string name, bool valid) => Assert.Equal(valid, SymbolicDim.IsSymbolName(name));
}
