package dashboard

import (
	"context"
	"log/slog"

	"github.com/azemu/azemu/internal/billing"
	"github.com/azemu/azemu/internal/engine"
)

// Accounts keeps every resource's running cost, as the dashboard does,
// for a process that serves no dashboard: a bulk load (azemu seed) keeps
// them as it writes its history and saves them at its end, so that the
// first start after it reads them rather than that history.
type Accounts struct {
	eng    *engine.Engine
	ledger *ledger
	stop   context.CancelFunc // ends the reading of the history, and the saver
}

// KeepAccounts starts keeping the running accounts of eng's resources,
// rated by prices: it reads the saved accounts and the changes after them,
// or the whole history when there are none it can trust, and follows every
// change committed from then on. It returns once they are read, or with
// the error that kept them from being read. Only Save saves them.
func KeepAccounts(ctx context.Context, eng *engine.Engine, prices *billing.PriceSheet, log *slog.Logger) (*Accounts, error) {
	l := followChanges(eng, prices, log, nil)
	if err := l.read(ctx, eng); err != nil {
		return nil, err
	}
	return &Accounts{eng: eng, ledger: l, stop: func() {}}, nil
}

// followChanges makes a ledger of eng's resources that is told of every
// change committed from now on, and then tells also (when set).
func followChanges(eng *engine.Engine, prices *billing.PriceSheet, log *slog.Logger, also func(engine.Change)) *ledger {
	l := newLedger(prices)
	l.keyOf, l.log = eng.KeyOf, log
	eng.OnChange(func(c engine.Change) {
		l.onChange(c)
		if also != nil {
			also(c)
		}
	})
	return l
}

// Save saves the accounts, so that the next start reads them and the
// changes after them rather than the whole history, and stops keeping
// them. Call it once the engine has stopped and every change it
// acknowledged is in the store, before the store closes. It saves nothing
// when the accounts are not whole or it cannot say which changes they
// include; a failure loses nothing: the next start reads more of the
// history.
func (a *Accounts) Save(ctx context.Context) error {
	a.stop()
	return a.ledger.save(ctx, a.eng, true, true)
}
