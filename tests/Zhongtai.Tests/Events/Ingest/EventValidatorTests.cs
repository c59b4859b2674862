using Zhongtai.Events;
using Zhongtai.Events.Ingest;

namespace Zhongtai.Tests.Events.Ingest;

public class EventValidatorTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);

    private static List<EventError> Validate(Event e, IngestOptions? options = null, bool backfill = false)
    {
        var errors = new List<EventError>();
        new EventValidator(options ?? new IngestOptions()).Validate(e, Now, backfill, errors);
        return errors;
    }

    private static Event Click() => new() { Type = "click", UserId = "u1", ItemId = "i1", Timestamp = Now.AddMinutes(-1) };

    [Fact]
    public void ValidClick_HasNoErrors() => Assert.Empty(Validate(Click()));

    [Fact]
    public void UnknownType_IsRejected_UnlessDeclared()
    {
        var e = Click();
        e.Type = "add_to_cart";
        Assert.Equal("unknown_type", Assert.Single(Validate(e)).Code);
        Assert.Empty(Validate(e, new IngestOptions { CustomTypes = ["add_to_cart"] }));
    }

    [Fact]
    public void MissingUserOrItem_IsMissingField()
    {
        var e = Click();
        e.UserId = null;
        e.ItemId = null;
        Assert.Equal(["itemId", "userId"], Validate(e).Select(x => x.Field).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void MissingTimestamp_IsMissingField()
    {
        var e = Click();
        e.Timestamp = default;
        Assert.Equal(("timestamp", "missing_field"), (Validate(e)[0].Field, Validate(e)[0].Code));
    }

    [Fact]
    public void TimestampWindow_RejectsFutureAndOld_ButBackfillAllowsOld()
    {
        var future = Click();
        future.Timestamp = Now.AddHours(1);
        Assert.Equal("out_of_window", Assert.Single(Validate(future)).Code);
        Assert.Equal("out_of_window", Assert.Single(Validate(future, backfill: true)).Code);

        var old = Click();
        old.Timestamp = Now.AddDays(-30);
        Assert.Equal("out_of_window", Assert.Single(Validate(old)).Code);
        Assert.Empty(Validate(old, backfill: true));
    }

    [Fact]
    public void Dwell_NeedsNonNegativeValue()
    {
        var e = Click();
        e.Type = "dwell";
        Assert.Equal("missing_field", Assert.Single(Validate(e)).Code);
        e.Value = -1;
        Assert.Equal("invalid_value", Assert.Single(Validate(e)).Code);
        e.Value = 12.5;
        Assert.Empty(Validate(e));
    }

    [Fact]
    public void NegativePosition_AndNonFiniteValue_AreInvalid()
    {
        var e = Click();
        e.Position = -2;
        e.Value = double.NaN;
        Assert.Equal(["position", "value"], Validate(e).Select(x => x.Field).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Item_NeedsItemId_AndBoundsText()
    {
        var e = new Event { Type = "item", Timestamp = Now, Title = new string('t', 2000) };
        Assert.Equal(["itemId", "title"], Validate(e).Select(x => x.Field).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Conversation_NeedsSessionAndValidRoles()
    {
        var e = new Event { Type = "conversation", Timestamp = Now, SessionId = "s1", Turns = [new() { Role = "user", Content = "hi" }, new() { Role = "robot", Content = "?" }] };
        var error = Assert.Single(Validate(e));
        Assert.Equal("turns[1].role", error.Field);
    }

    [Fact]
    public void OverlongId_IsInvalid()
    {
        var e = Click();
        e.Id = new string('x', 300);
        Assert.Equal(("id", "invalid_value"), (Validate(e)[0].Field, Validate(e)[0].Code));
    }
}
