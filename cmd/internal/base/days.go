package base

import (
	"strconv"
	"time"

	"github.com/tlskit/tlskit/diagnose"
)

// DefaultExpiringWithin is --expiring-within's default: 30 days.
const DefaultExpiringWithin = 30 * 24 * time.Hour

// DaysDuration is a duration flag that also takes days: 30d, 1.5d, parsed
// as the exporter's config file parses them ([diagnose.ParseDays]).
type DaysDuration time.Duration

// String is the value as a number of days when it is whole days (30d),
// else as a duration.
func (d *DaysDuration) String() string {
	v := time.Duration(*d)
	if v != 0 && v%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(v/(24*time.Hour)), 10) + "d"
	}
	return v.String()
}

// Set parses s: 30d, 1.5d or a Go duration (720h), not negative.
func (d *DaysDuration) Set(s string) error {
	v, err := diagnose.ParseDays(s)
	if err != nil {
		return err
	}
	*d = DaysDuration(v)
	return nil
}

// Type names the flag's value in --help.
func (d *DaysDuration) Type() string { return "duration" }
